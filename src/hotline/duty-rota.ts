import { randomUUID } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../platform/mongo';

/** One agent's duty: which days (0 = Sunday) and hours (Bamako = UTC), and where alerts go. */
export interface DutyShift {
  _id: string;
  name: string;
  /** The agent's own phone, sealed like a caller's. */
  phoneSealed: string;
  phoneMasked: string;
  /** Language of the alert SMS. */
  language: string;
  days: number[];
  /** "HH:MM"; `to` before `from` means the shift runs past midnight. */
  from: string;
  to: string;
  createdAt: Date;
  createdBy: string;
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Pure: is the shift on at `at`? An overnight shift belongs to the day it starts. */
export function onDuty(shift: Pick<DutyShift, 'days' | 'from' | 'to'>, at: Date): boolean {
  const now = at.getUTCHours() * 60 + at.getUTCMinutes();
  const from = minutesOf(shift.from);
  const to = minutesOf(shift.to);
  const today = at.getUTCDay();
  if (from <= to) return shift.days.includes(today) && now >= from && now < to;
  const yesterday = (today + 6) % 7;
  return (shift.days.includes(today) && now >= from) || (shift.days.includes(yesterday) && now < to);
}

/** The duty rota, edited by admins, read when an urgent request arrives. */
export function createDutyRota(connection: Connection) {
  const shifts = modelOn<DutyShift>(
    connection,
    'DutyShift',
    () =>
      new Schema<DutyShift>(
        {
          _id: String,
          name: String,
          phoneSealed: String,
          phoneMasked: String,
          language: String,
          days: [Number],
          from: String,
          to: String,
          createdAt: Date,
          createdBy: String,
        },
        { collection: 'hotline_duty_rota', versionKey: false },
      ),
  );
  return {
    async add(shift: Omit<DutyShift, '_id'>): Promise<string> {
      const _id = randomUUID();
      await shifts.create({ _id, ...shift });
      return _id;
    },
    async remove(id: string): Promise<boolean> {
      return (await shifts.deleteOne({ _id: id })).deletedCount > 0;
    },
    list: (): Promise<DutyShift[]> => shifts.find().sort({ name: 1 }).lean<DutyShift[]>().exec(),
    async onDutyAt(at: Date): Promise<DutyShift[]> {
      return (await shifts.find().lean<DutyShift[]>().exec()).filter((shift) => onDuty(shift, at));
    },
  };
}

export type DutyRota = ReturnType<typeof createDutyRota>;
