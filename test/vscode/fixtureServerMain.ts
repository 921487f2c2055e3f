// Runs the example's scripted OpenAI server until SIGTERM, for UI steps: node --import tsx fixtureServerMain.ts EXAMPLE_DIR
import { startFixtureServer } from './fixtureServer.js';

void startFixtureServer(process.argv[2]).then((server) => {
  process.stdout.write(`${server.url}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
});
