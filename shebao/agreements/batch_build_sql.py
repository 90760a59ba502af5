"""The pending list built by PostgreSQL itself (``batch_services.batch_task_build``): one
``INSERT … SELECT`` that picks each payer's choice in force (``DISTINCT ON``), their usable
agreement (a verified three-party one first, the latest; else the active two-party one) by
two index probes, leaves out payers already on a live item of the same type and year, and
numbers the rest into chunks and idempotency keys (``row_number``) — no row passes through
Python. The same selection as the portable path in ``batch_services`` (tests run both)."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection

from shebao.agreements.batch_models import BatchDeductionTask

_INSERT = """
INSERT INTO agreements_batchdeductionitem (public_id, task_id, chunk_no, account_id, registration_no, insurance_type_code,
  contribution_year, agreement_kind, agreement_id, agreement_no, amount, rule_ref, idempotency_key, state, failure_reason,
  declaration_no, bank_ref, tax_receipt_no)
SELECT replace(gen_random_uuid()::text, '-', ''), %(task)s, (s.n - 1) / %(size)s, s.account_id, s.registration_no, %(code)s,
  %(year)s, s.kind, s.agreement_id, s.agreement_no, s.amount, s.rule_ref,
  'BK' || lpad(%(task)s::text, 8, '0') || lpad((s.n - 1)::text, 12, '0'), 'pending', '', '', '', ''
FROM (
  SELECT row_number() OVER (ORDER BY c.registration_no) AS n, c.registration_no, c.amount, c.rule_ref,
    a.kind, a.agreement_id, a.agreement_no, a.account_id
  FROM (SELECT DISTINCT ON (registration_no) registration_no, amount, rule_ref FROM agreements_payableamountchoice
        WHERE insurance_type_code = %(code)s AND contribution_year = %(year)s AND rule_ref = ANY(%(refs)s)
        ORDER BY registration_no, chosen_at DESC, id DESC) c
  CROSS JOIN LATERAL (
    SELECT kind, agreement_id, agreement_no, account_id FROM (
      (SELECT 'three_party' AS kind, t.id AS agreement_id, t.agreement_no, t.account_id, 0 AS pref, t.verified_at AS at
       FROM agreements_threepartyagreement t WHERE t.registration_no = c.registration_no AND t.state = 'verified'
       ORDER BY t.verified_at DESC LIMIT 1)
      UNION ALL
      (SELECT 'two_party', w.id, w.agreement_no, w.account_id, 1, w.activated_at
       FROM agreements_twopartyagreement w WHERE w.registration_no = c.registration_no AND w.state = 'active' LIMIT 1)
    ) u ORDER BY pref LIMIT 1) a
  WHERE NOT EXISTS (SELECT 1 FROM agreements_batchdeductionitem i WHERE i.registration_no = c.registration_no
                    AND i.insurance_type_code = %(code)s AND i.contribution_year = %(year)s
                    AND i.state IN ('pending', 'deducting', 'succeeded'))
) s
"""


def build_in_database(task: BatchDeductionTask, *, size: int, rule_refs: list[str]) -> tuple[int, Decimal, int]:
    """Insert the task's items and chunks; (items, total amount, chunks)."""
    params = {"task": task.pk, "size": size, "code": task.insurance_type_code, "year": task.contribution_year, "refs": rule_refs}
    with connection.cursor() as cursor:
        # Fresh statistics first (a sample, well under a second at a million rows): planned on
        # stale ones — after a mass import, say — the probes become scans of whole tables.
        cursor.execute("ANALYZE agreements_payableamountchoice, agreements_twopartyagreement, agreements_threepartyagreement, "
                       "agreements_batchdeductionitem")
        cursor.execute(_INSERT, params)
        cursor.execute("SELECT count(*), coalesce(sum(amount), 0) FROM agreements_batchdeductionitem WHERE task_id = %s", [task.pk])
        count, total = cursor.fetchone()
        chunks = (count + size - 1) // size
        cursor.execute("INSERT INTO agreements_batchdeductionchunk (task_id, chunk_no, state, claimed_by) "
                       "SELECT %s, n, 'pending', '' FROM generate_series(0, %s - 1) AS n", [task.pk, chunks])
    return count, Decimal(total).quantize(Decimal("0.01")), chunks
