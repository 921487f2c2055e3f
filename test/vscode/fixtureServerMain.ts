// Runs the example's scripted OpenAI server until SIGTERM, for UI steps:
//   node --import tsx fixtureServerMain.ts EXAMPLE_DIR [API_KEY]
// With API_KEY, requests that do not carry it as a Bearer token get 401.
import { startFixtureServer } from './fixtureServer.js';

void startFixtureServer(process.argv[2], { apiKey: process.argv[3] }).then((server) => {
  process.stdout.write(`${server.url}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
});
