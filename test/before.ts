/**
 * Runs once before the test files (tap's `before`): builds the back-office app into web/dist
 * when it is missing or older than web/src. The cloud serves web/dist read-only and never
 * builds it, so the tests that load the app need this build, as a production install does.
 */
import { buildWeb, needsBuild } from '../scripts/build-web.js';

if (needsBuild()) {
  const r = await buildWeb();
  console.log(`# web app built: ${r.js}, ${r.css}`);
}
