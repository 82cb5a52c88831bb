-- Drops the shared seat map of a schedule and, only if there was one, tells the other processes to drop
-- their copies (ARGV[1] the channel, ARGV[2] the schedule id): a process keeps only copies it read from
-- Redis or wrote there, so with no shared copy there is nothing recent to drop.
if redis.call('DEL', KEYS[1]) == 1 then
  redis.call('PUBLISH', ARGV[1], ARGV[2])
  return 1
end
return 0
