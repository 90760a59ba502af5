"""Measurements of a rendered page, taken in the page itself (computed styles and boxes in
CSS pixels), for the MIIT 适老化 numbers (interfaces.md §10):

- text: font-size, line-height / font-size, WCAG 2.x contrast of the text colour against
  the effective background (ancestors walked up, transparent layers skipped, translucent
  ones composited, every colour stop of a gradient tried);
- targets: the box of every interactive element (a checkbox or radio is measured by the
  label it sits in);
- names: the accessible name of every form control (``<label for>``, wrapping label,
  ``aria-label`` or ``aria-labelledby``).
"""

from __future__ import annotations

from dataclasses import dataclass

MEASURE_JS = r"""
() => {
  const parse = (s) => {
    const m = /rgba?\(([^)]+)\)/.exec(s || "");
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map((v) => v.endsWith("%") ? parseFloat(v) / 100 : parseFloat(v));
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, under) => {
    const a = top.a + under.a * (1 - top.a);
    if (a === 0) return { r: 0, g: 0, b: 0, a: 0 };
    const mix = (c) => (top[c] * top.a + under[c] * under.a * (1 - top.a)) / a;
    return { r: mix("r"), g: mix("g"), b: mix("b"), a };
  };
  const lum = (c) => {
    const ch = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const WHITE = { r: 255, g: 255, b: 255, a: 1 };
  // Candidate effective backgrounds of el: the layers from el up to the first opaque one,
  // composited over white; a gradient contributes each of its colour stops.
  const backgrounds = (el) => {
    let stacks = [[]];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const cs = getComputedStyle(n);
      const image = cs.backgroundImage || "none";
      if (image.includes("gradient")) {
        const stops = (image.match(/rgba?\([^)]+\)/g) || []).map(parse).filter(Boolean);
        if (stops.length) {
          stacks = stacks.flatMap((st) => stops.map((c) => [...st, c]));
          if (stops.every((c) => c.a === 1)) break;
          continue;
        }
      }
      const bg = parse(cs.backgroundColor);
      if (bg && bg.a > 0) {
        stacks = stacks.map((st) => [...st, bg]);
        if (bg.a === 1) break;
      }
    }
    return stacks.map((st) => st.reduceRight((under, top) => over(top, under), WHITE));
  };
  const visible = (el) => {
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true })) return false;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    // off-canvas (the skip link until it is focused)
    if (r.right + window.scrollX <= 0 || r.bottom + window.scrollY <= 0) return false;
    return true;
  };
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (el.classList.length) s += "." + [...el.classList].slice(0, 3).join(".");
    const t = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ");
    if (t) s += ` "${t.slice(0, 24)}"`;
    return s;
  };
  const px = (v) => (v && v.endsWith("px") ? parseFloat(v) : NaN);

  const CONTROLS = "input:not([type=hidden]), select, textarea";
  const text = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "OPTION", "BR"].includes(el.tagName)) continue;
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const isField = el.matches("input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea");
    if (!ownText && !isField) continue;
    if (!visible(el)) continue;
    const cs = getComputedStyle(el);
    const size = px(cs.fontSize);
    const lh = cs.lineHeight === "normal" ? NaN : px(cs.lineHeight);
    const color = parse(cs.color);
    const bgs = backgrounds(el);
    const contrasts = bgs.map((bg) => ratio(over(color, bg), bg));
    text.push({ what: describe(el), fontSize: size, lineHeight: lh, lineRatio: lh / size,
                contrast: Math.min(...contrasts), color: cs.color, field: isField });
  }
  const targets = [];
  for (const el of document.body.querySelectorAll("a[href], button, " + CONTROLS + ", summary, [role=button]")) {
    let box = el;
    const type = (el.getAttribute("type") || "").toLowerCase();
    const toggle = el.tagName === "INPUT" && (type === "checkbox" || type === "radio");
    if (toggle) {
      box = el.closest("label") || (el.labels && el.labels[0]) || null;
      if (!box) { targets.push({ what: describe(el), width: 0, height: 0, button: false, note: "checkbox/radio outside any label" }); continue; }
    }
    if (!visible(box)) continue;
    const r = box.getBoundingClientRect();
    const button = el.matches("button, input[type=submit], input[type=button], input[type=reset], a.weui-btn, [role=button], .tool-btn");
    targets.push({ what: describe(el) + (toggle ? " (label " + describe(box) + ")" : ""), width: r.width, height: r.height, button,
                   inText: el.tagName === "A" && !!el.closest("p, li, dd") });
  }
  const names = [];
  for (const el of document.body.querySelectorAll(CONTROLS)) {
    const fromLabels = [...(el.labels || [])].map((l) => l.innerText.trim()).filter(Boolean).join(" ");
    const aria = (el.getAttribute("aria-label") || "").trim();
    const by = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean)
      .map((id) => (document.getElementById(id) || {}).textContent || "").join(" ").trim();
    names.push({ what: describe(el), id: el.id, name: fromLabels || aria || by,
                 labels: (el.labels || []).length, ariaLabel: aria, ariaLabelledby: by });
  }
  return { text, targets, names, url: location.pathname, elderly: document.body.classList.contains("elderly") };
}
"""


@dataclass
class Audit:
    url: str
    elderly: bool
    text: list[dict]
    targets: list[dict]
    names: list[dict]


def measure(page) -> Audit:
    return Audit(**page.evaluate(MEASURE_JS))


TOL = 0.5  # sub-pixel rounding of boxes


def elderly_failures(audit: Audit) -> list[str]:
    """大字版 numbers: text >= 18px, line height >= 1.3x, contrast >= 4.5:1, targets >= 60x60."""
    out = []
    for t in audit.text:
        if not t["fontSize"] >= 18:
            out.append(f"{audit.url}: font-size {t['fontSize']}px < 18px: {t['what']}")
        if not t["lineRatio"] >= 1.3 - 1e-3:
            out.append(f"{audit.url}: line-height {t['lineHeight']}px = {t['lineRatio']:.2f}x < 1.3x font size: {t['what']}")
        if not t["contrast"] >= 4.5:
            out.append(f"{audit.url}: contrast {t['contrast']:.2f}:1 < 4.5:1 ({t['color']}): {t['what']}")
    for t in audit.targets:
        if t.get("note"):
            out.append(f"{audit.url}: {t['note']}: {t['what']}")
        elif t["width"] < 60 - TOL or t["height"] < 60 - TOL:
            out.append(f"{audit.url}: target {t['width']:.0f}x{t['height']:.0f} < 60x60: {t['what']}")
    return out


def standard_button_failures(audit: Audit) -> list[str]:
    """Standard mode: buttons >= 44x44 (MIIT 2.1 for pages other than 适老版)."""
    return [
        f"{audit.url}: button {t['width']:.0f}x{t['height']:.0f} < 44x44: {t['what']}"
        for t in audit.targets
        if t["button"] and (t["width"] < 44 - TOL or t["height"] < 44 - TOL)
    ]


def standard_other_small_targets(audit: Audit) -> list[str]:
    """Standard mode, not asserted (reported): non-button targets under 44x44."""
    return [
        f"{audit.url}: {t['width']:.0f}x{t['height']:.0f}: {t['what']}"
        for t in audit.targets
        if not t["button"] and (t["width"] < 44 - TOL or t["height"] < 44 - TOL)
    ]


def unnamed_controls(audit: Audit) -> list[str]:
    return [f"{audit.url}: form control without an accessible name: {n['what']}" for n in audit.names if not n["name"]]


def page_findings(page) -> list[str]:
    """What the current page fails, by its mode: all 大字版 numbers when it is on, the
    44x44 buttons otherwise; unnamed form controls in both."""
    audit = measure(page)
    found = elderly_failures(audit) if audit.elderly else standard_button_failures(audit)
    return found + unnamed_controls(audit)
