import { describe, expectTypeOf, it } from 'vitest';
import type { Runtime } from '../../runtime/index.ts';
import type { ActorRef } from '../../actors/define.ts';
import type { ActorContext } from '../../actors/context.ts';
import { counter } from '../fixtures/counter.ts';

// These assertions are checked by `tsc --noEmit` (part of `npm test`): a wrong inferred type fails the build.
describe('typed refs', () => {
  it('infers payload and reply types from the definition', () => {
    const check = (rt: Runtime, ctx: ActorContext, ref: ActorRef<typeof counter>) => {
      expectTypeOf(rt.ask(ref, 'get')).toEqualTypeOf<Promise<number>>();
      expectTypeOf(ctx.ask(ref, 'slowAdd', { by: 1, ms: 1 })).toEqualTypeOf<Promise<number>>();
      expectTypeOf(rt.spawn(counter)).toEqualTypeOf<Promise<ActorRef<typeof counter>>>();
      rt.tell(ref, 'add', 2);
      rt.ask(ref, 'get', undefined, { timeoutMs: 10 });
      // @ts-expect-error the payload of 'add' is a number
      rt.tell(ref, 'add', 'x');
      // @ts-expect-error 'add' needs a payload
      rt.tell(ref, 'add');
      // @ts-expect-error no such message type
      rt.tell(ref, 'subtract', 1);
      // @ts-expect-error spawn args are typed by init
      void rt.spawn(counter, { args: { start: 'one' } });
    };
    expectTypeOf(check).toBeFunction();
  });
});
