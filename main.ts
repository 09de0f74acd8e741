// Entry point for `cdktf synth` / `cdktf deploy` and `npm run synth`.
import { buildApp, targetFromEnv } from "./stacks/app";
import { ConfigError, loadConfig } from "./stacks/config";

try {
  buildApp(loadConfig(), targetFromEnv()).synth();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`synth stopped: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
