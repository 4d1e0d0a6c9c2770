/**
 * The golden cases this package ships, read from disk (Node). The suite imports them as
 * `#bundled-goldens`, which a browser bundler resolves to `bundled-goldens-browser.ts`
 * instead (package.json `imports`, `browser` condition): same files, no `node:fs`.
 */
export { radamGoldenCases, schedulerGoldenCases } from './golden-files.js';
