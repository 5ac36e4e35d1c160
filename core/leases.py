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
# A run's lease, taken unless another owner holds it: free, or held only by the run's own
# message waiting its turn (a value starting with ARGV[2], which no owner's token does). KEYS:
# the lease; ARGV: the token to hold it with, the waiting prefix, milliseconds. 1 when taken.
TAKE_UNLESS_HELD: Final = """
local current = redis.call('GET', KEYS[1])
if current == false or string.sub(current, 1, #ARGV[2]) == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return 1
end
return 0
"""
# A run's lease kept by the chain of messages that waits its turn (ARGV[1], its waiting value):
# taken when free, renewed when its own; 0 when another chain waits or an owner runs it (this
# message is a copy, from a recovery while the chain still lived, and stops). KEYS: the lease;
# ARGV: the waiting value, milliseconds.
WAIT: Final = """
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
# The lease handed from its owner (ARGV[1]) to a new value (ARGV[2]) for ARGV[3] milliseconds.
HAND_OVER: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
# A lock taken in the order asked. KEYS: the lease, its holder, the queue (a sorted set of
# tickets by when first asked), the rollback waiting to take the lock over. ARGV: token,
# milliseconds, ticket, holder, when asked, the tickets' key prefix, how long a ticket lives
# unasked (ms), and "take" or "peek". A ticket is asked again while its asker waits (its key
# holds who waits as they first asked, for those who list the queue); one whose asker stopped
# asking (it died) lapses and leaves the head. The ticket at the head takes a free lease no
# rollback waits for: 0 (peek: 0 when it could, taking nothing). Otherwise its place in the queue
# (1 is next); -1 when it was withdrawn (CANCEL), for good.
TAKE_TURN: Final = """
local lease, info, queue, wanted = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, ms, ticket, holder, asked, prefix, alive, mode = unpack(ARGV)
if redis.call('EXISTS', prefix .. 'cancelled:' .. ticket) == 1 then return -1 end
if not redis.call('SET', prefix .. ticket, holder, 'PX', alive, 'NX') then
  redis.call('PEXPIRE', prefix .. ticket, alive)
end
redis.call('ZADD', queue, 'NX', asked, ticket)
while true do
  local head = redis.call('ZRANGE', queue, 0, 0)[1]
  if head == nil or head == ticket or redis.call('EXISTS', prefix .. head) == 1 then break end
  redis.call('ZREM', queue, head)
end
local first = redis.call('ZRANGE', queue, 0, 0)[1] == ticket
if first and redis.call('EXISTS', lease) == 0 and redis.call('EXISTS', wanted) == 0 then
  if mode == 'peek' then return 0 end
  redis.call('SET', lease, token, 'PX', ms)
  redis.call('SET', info, holder, 'PX', ms)
  redis.call('ZREM', queue, ticket)
  redis.call('DEL', prefix .. ticket)
  return 0
end
return redis.call('ZRANK', queue, ticket) + 1
"""
# Leave the queue. KEYS: the queue, the ticket's key. ARGV: the ticket.
LEAVE: Final = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""
# Withdraw a ticket that still waits: 1, and it never joins again; 0 when it is not in the queue
# (it took its turn, or never joined). KEYS: the queue. ARGV: the ticket, the tickets' key prefix,
# how long the withdrawal is remembered (ms).
CANCEL: Final = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('DEL', ARGV[2] .. ARGV[1])
  redis.call('SET', ARGV[2] .. 'cancelled:' .. ARGV[1], '1', 'PX', ARGV[3])
  return 1
end
return 0
"""
# Take a free lease, unless a rollback waits for it (and this is not that rollback). KEYS: the
# lease, the rollback waiting. ARGV: token, milliseconds.
TAKE: Final = """
local waiting = redis.call('GET', KEYS[2])
if waiting and waiting ~= ARGV[1] then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0
"""
