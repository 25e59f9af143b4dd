export type { ClusterReplyOptions, SlotRange } from './cluster-reply';
export { parseClusterShards, parseClusterSlots } from './cluster-reply';
export { crc16 } from './crc16';
export type { BalanceReport, KeyRouter } from './distribution';
export { measureBalance, remapFraction } from './distribution';
export type {
  KetamaHashCountMath,
  KetamaPoint,
  KetamaPointKeyFormat,
  KetamaRing,
  KetamaRingOptions,
  KetamaServer,
} from './ketama-ring';
export { createKetamaRing, DEFAULT_KETAMA_RING_OPTIONS } from './ketama-ring';
export { keySlot, SLOT_COUNT } from './key-slot';
export { replicaKeysOnDistinctNodes } from './replica-keys';
export type { ApplyMovedOptions, SlotMap } from './slot-map';
export { createSlotMap } from './slot-map';
