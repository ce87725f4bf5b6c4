import { randomUUID } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../platform/mongo';
import type { Role } from './roles';

export interface StaffUser {
  _id: string;
  email: string;
  name: string;
  passwordHash: string;
  roles: Role[];
  disabled: boolean;
  createdAt: Date;
  passwordChangedAt: Date;
}

/** What leaves the store for the rest of the app: never the hash. */
export type StaffProfile = Omit<StaffUser, 'passwordHash'>;

export class DuplicateEmailError extends Error {
  constructor(email: string) {
    super(`a staff user with email ${email} already exists`);
    this.name = 'DuplicateEmailError';
  }
}

const normalizeEmail = (email: string): string => email.trim().toLowerCase();
/** A user without the password hash: what leaves the store for the rest of the app. */
export const profileOf = ({ passwordHash: _hash, ...profile }: StaffUser): StaffProfile => profile;

export function createStaffStore(connection: Connection) {
  const users = modelOn<StaffUser>(
    connection,
    'StaffUser',
    () =>
      new Schema<StaffUser>(
        {
          _id: String,
          email: { type: String, unique: true },
          name: String,
          passwordHash: String,
          roles: [String],
          disabled: Boolean,
          createdAt: Date,
          passwordChangedAt: Date,
        },
        { collection: 'staff_users', versionKey: false },
      ),
  );

  return {
    async create(input: { email: string; name: string; passwordHash: string; roles: Role[] }, at: Date): Promise<StaffProfile> {
      const user: StaffUser = {
        _id: randomUUID(),
        ...input,
        email: normalizeEmail(input.email),
        disabled: false,
        createdAt: at,
        passwordChangedAt: at,
      };
      try {
        await users.init(); // the unique index on email exists before the first insert
        await users.create(user);
      } catch (err) {
        if ((err as { code?: number }).code === 11000) throw new DuplicateEmailError(user.email);
        throw err;
      }
      return profileOf(user);
    },
    /** With the hash: for checking a password only. */
    async findForLogin(email: string): Promise<StaffUser | undefined> {
      return (await users.findOne({ email: normalizeEmail(email) }).lean<StaffUser>().exec()) ?? undefined;
    },
    async findById(id: string): Promise<StaffUser | undefined> {
      return (await users.findById(id).lean<StaffUser>().exec()) ?? undefined;
    },
    async profile(id: string): Promise<StaffProfile | undefined> {
      const user = await users.findById(id).lean<StaffUser>().exec();
      return user ? profileOf(user) : undefined;
    },
    async setPassword(id: string, passwordHash: string, at: Date): Promise<void> {
      await users.updateOne({ _id: id }, { $set: { passwordHash, passwordChangedAt: at } });
    },
    async list(): Promise<StaffProfile[]> {
      const all = await users.find({}).sort({ email: 1 }).limit(1_000).lean<StaffUser[]>().exec();
      return all.map(profileOf);
    },
    async setDisabled(id: string, disabled: boolean): Promise<void> {
      await users.updateOne({ _id: id }, { $set: { disabled } });
    },
    async setRoles(id: string, roles: Role[]): Promise<void> {
      await users.updateOne({ _id: id }, { $set: { roles } });
    },
  };
}

export type StaffStore = ReturnType<typeof createStaffStore>;
