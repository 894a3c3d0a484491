/** Driving the pure machine in tests: events in order, each at its time, and the effects it asks. */
import { step } from "../../../lib/supervisor/core/machine.ts";
import {
  type Effect,
  type Event,
  initialModel,
  type MachineConfig,
  type Model,
  type TimerName,
} from "../../../lib/supervisor/core/model.ts";

/** Feeds `events` in order, each at its time; returns the model and every effect. */
export function runMachine(
  events: readonly [number, Event][],
  config: MachineConfig,
  model: Model = initialModel(),
): { model: Model; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const [now, e] of events) {
    const r = step(model, e, now, config);
    model = r.model;
    effects.push(...r.effects);
  }
  return { model, effects };
}

/** The effect that arms `timer` for `at`. */
export const setTimer = (timer: TimerName, at: number) =>
  ({ kind: "set_timer", timer, at }) as const;

/** The effect that disarms `timer`. */
export const cancelTimer = (timer: TimerName) => ({ kind: "cancel_timer", timer }) as const;
