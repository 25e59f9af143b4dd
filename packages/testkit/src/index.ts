export type { RedisBinaries } from './binaries';
export { requireRedisBinaries } from './binaries';
export { runningProcessCount } from './internal/process-registry';
export type { RespReply } from './internal/resp';
export type { RedisNode, RedisNodeState, StartRedisOptions } from './redis-node';
export { startRedis } from './redis-node';
