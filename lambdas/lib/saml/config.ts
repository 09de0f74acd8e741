// Environment of the SAML handlers, read once per container with errors that name the variable.
export class ConfigurationError extends Error {
  readonly code = "CONFIGURATION_INVALID";
}

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigurationError(`Environment variable ${name} is not set`);
  return value;
}

export function envList(name: string): string[] {
  return env(name).split(",").map((v) => v.trim()).filter(Boolean);
}

export function envJson<T>(name: string): T {
  try {
    return JSON.parse(env(name)) as T;
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`Environment variable ${name} is not JSON: ${(error as Error).message}`);
  }
}
