"""Redis leases: a key holding its owner's random token, kept alive by the owner and gone when it
dies. Both scripts act only while the key still holds the caller's token, so an owner whose lease
lapsed (and was taken by another) can neither extend nor delete the new owner's."""

from __future__ import annotations

from typing import Final

# KEYS: the lease, then any keys that live exactly as long; ARGV: token, milliseconds.
RENEW: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
  return 1
end
return 0
"""
# KEYS: the lease, then the keys that go with it; ARGV: token.
RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  for i = 1, #KEYS do redis.call('DEL', KEYS[i]) end
  return 1
end
return 0
"""
