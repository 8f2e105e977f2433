"""Lua scripts: every check-then-write happens inside Redis, in one atomic step.

No client-side WATCH (it is per connection and a pooled client may watch on
one connection and commit on another). Times come from the server's TIME,
never from a machine's clock. redis-py's ``Script`` reloads a script after a
restart emptied the script cache (NOSCRIPT).
"""

NOW_MS = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

# KEYS: lock, intent, fence, meta. ARGV: owner, ttl_ms, refresh (1/0), epoch, restore_hold_ms,
#       failover_hold_ms
# -> {1, fence} granted (also when we already hold it: a retried acquire whose reply was lost),
#    {0, pttl} busy, {-1, pttl, host} a spend intent of another owner, {-2} store epoch changed,
#    {-3, wait_ms} store restored too recently, {-4, wait_ms} the store failed over too recently
ACQUIRE = NOW_MS + """
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(redis.call('GET', KEYS[3]) or '0')}
end
if ARGV[3] == '1' then
  local epoch = redis.call('HGET', KEYS[4], 'epoch')
  if epoch ~= ARGV[4] then return {-2} end
  local restored = tonumber(redis.call('HGET', KEYS[4], 'restored_ms') or '0')
  local hold = restored + tonumber(ARGV[5]) - now_ms()
  if hold > 0 then return {-3, hold} end
  local failover = tonumber(redis.call('HGET', KEYS[4], 'failover_ms') or '0')
  hold = failover + tonumber(ARGV[6] or '0') - now_ms()
  if failover > 0 and hold > 0 then return {-4, hold} end
end
if cur then return {0, redis.call('PTTL', KEYS[1])} end
if ARGV[3] == '1' then
  local other = redis.call('HGET', KEYS[2], 'owner')
  if other and other ~= ARGV[1] then
    return {-1, redis.call('PTTL', KEYS[2]), redis.call('HGET', KEYS[2], 'host') or ''}
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, redis.call('INCR', KEYS[3])}
"""

# KEYS: lock. ARGV: owner, ttl_ms -> 1 extended, 0 not ours any more
EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: lock, intent. ARGV: owner, clear_intent (1/0) -> 1 released, 0 was not ours
RELEASE = """
local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  released = 1
end
if ARGV[2] == '1' and redis.call('HGET', KEYS[2], 'owner') == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return released
"""

# Right before the POST: still the owner, no live lease anywhere, the stored
# version is the one read; then extend the lock and record the spend intent.
# KEYS: lock, intent, profile leases, cred.
# ARGV: owner, lock_ttl_ms, intent_ttl_ms, expected_v, host, pid, boot, pstart, rotation_id
# -> {1} ok, {0} lock lost, {-1, n} leased, {-2, v} store moved on
BEGIN_SPEND = NOW_MS + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local leased = redis.call('ZCARD', KEYS[3])
if leased > 0 then return {-1, leased} end
local v = redis.call('HGET', KEYS[4], 'v') or '0'
if v ~= ARGV[4] then return {-2, v} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'owner', ARGV[1], 'v', v, 'host', ARGV[5], 'pid', ARGV[6],
           'boot', ARGV[7], 'pstart', ARGV[8], 'rotation_id', ARGV[9], 'at_ms', now)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1}
"""

# Versioned compare-and-set of a profile's credentials. Stored only if the
# record is still at the version (and refresh-token fingerprint) that was read
# and spent. A retried commit whose first reply was lost finds its own
# rotation_id and answers "already". Clears the spend intent of that version.
# A record that already is exactly the new one (version and fingerprint: a machine
# pushed its mirror of it after a failover) is "already committed" too; that
# answer writes a counter so a WAIT that follows covers the original write.
# With keep_intent the intent stays until the caller saw the write replicated
# (CLEAR_INTENT), so no other machine uses a rotation a failover could still lose.
# KEYS: cred, intent, profiles.
# ARGV: expected_v, expected_fp, new_v, blob, new_fp, rotation_id, expires_at_ms, host,
#       fence, profile_id, profile_name, keep_intent (1/0)
# -> {1, v, updated_ms} committed, {2, v, updated_ms} already committed, {0, v} conflict
# A fingerprint that ``rekey`` replaced at this same version (``prior_fps``: "v:fp ...")
# still matches: same token, re-sealed, so a journal anchored on it stays committable.
CAS_CRED = NOW_MS + """
local cur_v = redis.call('HGET', KEYS[1], 'v') or '0'
if (ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'rotation_id') == ARGV[6])
   or (cur_v == ARGV[3] and (redis.call('HGET', KEYS[1], 'fp') or '') == ARGV[5]) then
  redis.call('HINCRBY', KEYS[1], 'recommits', 1)
  return {2, tonumber(cur_v), tonumber(redis.call('HGET', KEYS[1], 'updated_ms') or '0')}
end
local same_fp = (redis.call('HGET', KEYS[1], 'fp') or '') == ARGV[2]
if not same_fp and ARGV[2] ~= '' then
  local prior = redis.call('HGET', KEYS[1], 'prior_fps') or ''
  same_fp = string.find(' ' .. prior .. ' ', ' ' .. ARGV[1] .. ':' .. ARGV[2] .. ' ', 1, true) ~= nil
end
if cur_v ~= ARGV[1] or not same_fp then
  return {0, tonumber(cur_v), 0}
end
local now = now_ms()
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'blob', ARGV[4], 'fp', ARGV[5], 'rotation_id', ARGV[6],
           'expires_at_ms', ARGV[7], 'updated_ms', now, 'host', ARGV[8], 'fence', ARGV[9], 'prior_fps', '')
if ARGV[12] ~= '1' and redis.call('HGET', KEYS[2], 'v') == ARGV[1] then redis.call('DEL', KEYS[2]) end
redis.call('HSET', KEYS[3], ARGV[10], ARGV[11])
return {1, tonumber(ARGV[3]), now}
"""

# Restore: the highest version wins, in any order (only the newest refresh
# token is alive). A spend intent on an older version is settled by the newer record
# (its rotation landed: the pushed record is it or a later one), so it goes too.
# KEYS: cred, profiles, intent. ARGV: v, blob, fp, expires_at_ms, host,
# profile_id, profile_name, updated_ms -> {1, v} stored, {0, stored_v} the store is as new or newer
PUT_IF_NEWER = NOW_MS + """
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if cur >= tonumber(ARGV[1]) then return {0, cur} end
local updated = tonumber(ARGV[8])
if updated <= 0 then updated = now_ms() end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'blob', ARGV[2], 'fp', ARGV[3], 'rotation_id', 'restore',
           'expires_at_ms', ARGV[4], 'updated_ms', updated, 'host', ARGV[5], 'fence', '0')
redis.call('HSET', KEYS[2], ARGV[6], ARGV[7])
local spent = tonumber(redis.call('HGET', KEYS[3], 'v') or '-1')
if spent >= 0 and spent < tonumber(ARGV[1]) then redis.call('DEL', KEYS[3]) end
return {1, tonumber(ARGV[1])}
"""

# ``roost state rekey``: the same plaintext re-sealed with the first key, and its
# fingerprint recomputed with the first key's MAC key, stored only if the record
# is still at the version and fingerprint that were read. The version, rotation_id
# and updated_ms stay: journals anchored on this version stay valid (the replaced
# fingerprint is kept in ``prior_fps``, which CAS_CRED accepts at this version).
# KEYS: cred. ARGV: expected_v, expected_fp, blob, new_fp
# -> {1, v} re-sealed, {0, v} the record moved on (nothing written)
REKEY_CRED = """
local cur_v = redis.call('HGET', KEYS[1], 'v') or '0'
if cur_v ~= ARGV[1] or (redis.call('HGET', KEYS[1], 'fp') or '') ~= ARGV[2] then
  return {0, tonumber(cur_v)}
end
if ARGV[2] ~= '' and ARGV[4] ~= ARGV[2] then
  local kept = ''
  for entry in string.gmatch(redis.call('HGET', KEYS[1], 'prior_fps') or '', '%S+') do
    if string.sub(entry, 1, #cur_v + 1) == cur_v .. ':' then kept = kept .. entry .. ' ' end
  end
  redis.call('HSET', KEYS[1], 'prior_fps', kept .. cur_v .. ':' .. ARGV[2])
end
redis.call('HSET', KEYS[1], 'blob', ARGV[3], 'fp', ARGV[4])
return {1, tonumber(cur_v)}
"""

# Shared by REMOVE_CRED and RENAME_CRED: the number of live leases of a profile.
LIVE_LEASES = NOW_MS + """
local function live_leases(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now_ms())
  return redis.call('ZCARD', key)
end
local function foreign_intent(key, mine)
  local owner = redis.call('HGET', key, 'owner')
  return owner and owner ~= mine
end
"""

# Remove a profile from the fleet (the caller holds its refresh lock) and leave
# a tombstone so machines retire their copies and never import it again.
# KEYS: rlock, cred, profiles, profile leases, intent, removed. ARGV: owner, id, name, host
# -> {1, v} removed, {0} not the lock owner, {-1, n} leased, {-2} a rotation in flight
REMOVE_CRED = LIVE_LEASES + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
local leased = live_leases(KEYS[4])
if leased > 0 then return {-1, leased} end
if foreign_intent(KEYS[5], ARGV[1]) then return {-2} end
local v = tonumber(redis.call('HGET', KEYS[2], 'v') or '0')
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('HSET', KEYS[6], ARGV[2], cjson.encode({name = ARGV[3], v = v, at_ms = now_ms(), host = ARGV[4]}))
return {1, v}
"""

# Move a record to a new name in one step (the caller holds both refresh locks;
# the blob was re-sealed for the new name and version). The old name gets a
# tombstone naming the new one; the new name's tombstone, if any, goes.
# KEYS: rlock old, cred old, cred new, profiles, leases old, leases new, intent old,
#       intent new, removed
# ARGV: owner old, old v, expected new v (0: absent), new v, blob, fp, expires_at_ms, host,
#       old id, new id, old name, new name, rotation id, owner new ('' when new is absent)
# -> {1, v, now} moved, {0} not the lock owner, {-1, n} leased, {-2} rotation in flight,
#    {-3, v} old record changed, {-4, v} new record changed
RENAME_CRED = LIVE_LEASES + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
local old_v = redis.call('HGET', KEYS[2], 'v') or '0'
if old_v ~= ARGV[2] then return {-3, tonumber(old_v)} end
local new_v = redis.call('HGET', KEYS[3], 'v') or '0'
if new_v ~= ARGV[3] then return {-4, tonumber(new_v)} end
local leased = live_leases(KEYS[5]) + live_leases(KEYS[6])
if leased > 0 then return {-1, leased} end
if foreign_intent(KEYS[7], ARGV[1]) or foreign_intent(KEYS[8], ARGV[14]) then return {-2} end
local now = now_ms()
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'v', ARGV[4], 'blob', ARGV[5], 'fp', ARGV[6], 'rotation_id', ARGV[13],
           'expires_at_ms', ARGV[7], 'updated_ms', now, 'host', ARGV[8], 'fence', '0')
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[4], ARGV[9])
redis.call('HSET', KEYS[4], ARGV[10], ARGV[12])
redis.call('HSET', KEYS[9], ARGV[9], cjson.encode({name = ARGV[11], v = tonumber(old_v), at_ms = now,
                                                   host = ARGV[8], renamed_to = ARGV[12]}))
redis.call('HDEL', KEYS[9], ARGV[10])
return {1, tonumber(ARGV[4]), now}
"""

# A rotation seen replicated: its intent goes (by rotation id, whoever wrote it).
# KEYS: intent. ARGV: rotation_id -> 1 cleared, 0 not that rotation's intent
CLEAR_INTENT = """
if redis.call('HGET', KEYS[1], 'rotation_id') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

# The primary this machine talks to, stamped in meta by its replication id. A new
# id on a server that was promoted (it has a second replication id) is a failover:
# refresh is held for the lock TTL from then (ACQUIRE, -4).
# KEYS: meta. ARGV: replid, promoted (1/0) -> {changed (1/0), failover_ms}
MARK_PRIMARY = NOW_MS + """
local cur = redis.call('HGET', KEYS[1], 'replid')
if cur == ARGV[1] then
  return {0, tonumber(redis.call('HGET', KEYS[1], 'failover_ms') or '0')}
end
redis.call('HSET', KEYS[1], 'replid', ARGV[1])
if cur and ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'failover_ms', now_ms())
  return {1, now_ms()}
end
return {0, tonumber(redis.call('HGET', KEYS[1], 'failover_ms') or '0')}
"""

# Compare-and-delete of an intent (a provably dead owner on our own host).
# KEYS: intent. ARGV: owner
DROP_INTENT = """
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

# Versioned compare-and-set of a JSON document. KEYS: doc. ARGV: expected_v, json
# -> new version, or -1 when another writer got there first (the caller re-reads and re-applies)
CAS_DOC = """
local cur = redis.call('HGET', KEYS[1], 'v') or '0'
if cur ~= ARGV[1] then return -1 end
local v = tonumber(cur) + 1
redis.call('HSET', KEYS[1], 'v', v, 'json', ARGV[2])
return v
"""

# Add or replace a lease. Refused while another owner's spend intent exists for
# the profile (a rotation is in flight: the child would get a dying token).
# KEYS: lease, leases, profile leases, intent. ARGV: member, json, ttl_ms, my_owner
# -> {1} ok, {0, host} refused
LEASE_PUT = NOW_MS + """
local other = redis.call('HGET', KEYS[4], 'owner')
if other and other ~= ARGV[4] then return {0, redis.call('HGET', KEYS[4], 'host') or ''} end
local expiry = now_ms() + tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], expiry, ARGV[1])
redis.call('ZADD', KEYS[3], expiry, ARGV[1])
return {1}
"""

# KEYS: lease, leases, profile leases. ARGV: member
LEASE_DEL = """
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""

# Every live lease with its remaining TTL (ms), expired members pruned.
# KEYS: leases. ARGV: lease key prefix -> {json, pttl, json, pttl, ...}
LEASE_LIST = NOW_MS + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms())
local out = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. member
  local value = redis.call('GET', key)
  if value then
    table.insert(out, value)
    table.insert(out, redis.call('PTTL', key))
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return out
"""

# Create the store's identity once. KEYS: meta. ARGV: epoch, mark_restored (1/0)
# -> {1, epoch} created, {0, epoch} already there (restored_ms bumped when asked)
INIT_META = NOW_MS + """
local now = now_ms()
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'created_ms', now, 'schema', 1)
  if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'restored_ms', now) end
  return {1, ARGV[1]}
end
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'restored_ms', now) end
return {0, redis.call('HGET', KEYS[1], 'epoch')}
"""

# Compare-and-delete of any owned key (claims). KEYS: key. ARGV: owner
DEL_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

ALL = {
    "init_meta": INIT_META,
    "del_if_owner": DEL_IF_OWNER,
    "acquire": ACQUIRE,
    "extend": EXTEND,
    "release": RELEASE,
    "begin_spend": BEGIN_SPEND,
    "cas_cred": CAS_CRED,
    "put_if_newer": PUT_IF_NEWER,
    "remove_cred": REMOVE_CRED,
    "rename_cred": RENAME_CRED,
    "drop_intent": DROP_INTENT,
    "clear_intent": CLEAR_INTENT,
    "mark_primary": MARK_PRIMARY,
    "cas_doc": CAS_DOC,
    "lease_put": LEASE_PUT,
    "lease_del": LEASE_DEL,
    "lease_list": LEASE_LIST,
    "rekey_cred": REKEY_CRED,
}
