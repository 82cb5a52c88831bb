-- Takes the stampede guard of a seat for ARGV[1] for ARGV[2] ms unless someone holds it. Answers false when
-- taken now, else {holder, remaining ms}: the caller may turn others away from memory for that long at most.
local previous = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX', 'GET')
if not previous then
  return false
end
return { previous, redis.call('PTTL', KEYS[1]) }
