"""Django's Redis cache with one client object per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache
operation (the pool is kept; the client object, with its table of some 160 response
callbacks, is not). A session read then pays that construction on every request. A
``redis.Redis`` is safe to share between threads (each command takes a connection from the
pool), so this backend builds it once per pool and otherwise behaves as Django's."""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _OneClientPerPool(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusedClientRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` without a client object per operation."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool
