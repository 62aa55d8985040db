import bcrypt from "bcryptjs";
import { z } from "zod";

const BCRYPT_COST = 12;

export const PasswordSchema = z
  .string()
  .min(10, "Use at least 10 characters.")
  .max(200, "Use at most 200 characters.");

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}

/**
 * A fixed hash compared against when the email is unknown, so "no such user" and "wrong password" take the same
 * time and an attacker cannot enumerate accounts by timing.
 */
const DUMMY_HASH = bcrypt.hashSync("switchboard-timing-equaliser", BCRYPT_COST);

export async function verifyPasswordOrDummy(password: string, hash: string | null | undefined): Promise<boolean> {
  const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
  return ok && Boolean(hash);
}
