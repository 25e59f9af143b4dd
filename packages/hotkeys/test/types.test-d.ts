import type { CacheStore, StoreDecorator } from '@dc/core';
import { expectTypeOf } from 'vitest';
import {
  type CounterAggregator,
  createCounterAggregator,
  createHotKeyDetector,
  type HotKeyEstimate,
  type ReplicaNamer,
  suffixReplicaKeys,
  withHotKeyPromotion,
  withHotKeyReplicas,
} from '../src/index';

declare const l1: CacheStore<string>;
const detector = createHotKeyDetector();

// Both decorators are StoreDecorators and keep the value type.
expectTypeOf(withHotKeyReplicas<string>({ detector })).toExtend<StoreDecorator<string>>();
expectTypeOf(withHotKeyPromotion<string>({ detector, l1 })).toExtend<StoreDecorator<string>>();
expectTypeOf(detector.top()).toEqualTypeOf<HotKeyEstimate[]>();
expectTypeOf(suffixReplicaKeys).toExtend<ReplicaNamer>();
expectTypeOf(createCounterAggregator({ flush: async () => undefined })).toEqualTypeOf<CounterAggregator>();
// @ts-expect-error the flush function is required
createCounterAggregator({});
