// The directory behind the local IdP: users and their groups from local/standins/idp/users.json (or a
// file the caller names), and the ADFS claim rule that turns groups into AWS Role claims.
import { timingSafeEqual, createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DEFAULT_USERS_FILE = fileURLToPath(new URL("./users.json", import.meta.url));
/** AD groups whose name starts with this are mapped to the IAM role of the same name. */
export const MAPPED_GROUP_PREFIX = "ADFS-";

export interface DirectoryUser {
  username: string;
  password: string;
  displayName: string;
  email: string;
  groups: string[];
}

export interface Directory {
  domain: string;
  users: DirectoryUser[];
}

export class DirectoryError extends Error {
  readonly code = "IDP_USERS_INVALID";
}

export function loadDirectory(path = DEFAULT_USERS_FILE): Directory {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new DirectoryError(`${path}: cannot be read as JSON: ${(error as Error).message}`);
  }
  const directory = parsed as Partial<Directory>;
  if (typeof directory.domain !== "string" || !Array.isArray(directory.users)) {
    throw new DirectoryError(`${path}: needs "domain" (string) and "users" (array)`);
  }
  directory.users.forEach((user, index) => {
    for (const field of ["username", "password", "displayName", "email"] as const) {
      if (typeof user?.[field] !== "string" || user[field] === "") {
        throw new DirectoryError(`${path}: users[${index}].${field} must be a non-empty string`);
      }
    }
    if (!Array.isArray(user.groups) || !user.groups.every((g) => typeof g === "string")) {
      throw new DirectoryError(`${path}: users[${index}].groups must be an array of group names`);
    }
  });
  return directory as Directory;
}

/** The user whose password matches, compared in constant time; undefined otherwise. */
export function authenticate(directory: Directory, username: string, password: string): DirectoryUser | undefined {
  const user = directory.users.find((u) => u.username.toLowerCase() === username.trim().toLowerCase());
  const digest = (value: string) => createHash("sha256").update(value).digest();
  // Compare digests even for an unknown user, so that timing does not tell which users exist.
  const matches = timingSafeEqual(digest(user?.password ?? "\0no user"), digest(password));
  return user && matches ? user : undefined;
}

/**
 * The ADFS claim rule of the AWS federation walkthrough: each mapped group becomes a Role
 * attribute value `<provider ARN>,<role ARN>`.
 */
export function roleClaims(user: DirectoryUser, aws: { accountId: string; samlProviderName: string }): string[] {
  const provider = `arn:aws:iam::${aws.accountId}:saml-provider/${aws.samlProviderName}`;
  return user.groups
    .filter((group) => group.startsWith(MAPPED_GROUP_PREFIX))
    .map((group) => `${provider},arn:aws:iam::${aws.accountId}:role/${group}`);
}
