// `pnpm sizes`: measures every entry point's bundle and rewrites the root README's table.
import { formatKb, updateReadmeSizes } from './sizes.js';

const sizes = await updateReadmeSizes();
for (const s of sizes) console.log(`${s.specifier.padEnd(34)} ${s.platform.padEnd(8)} ${formatKb(s.minified).padStart(10)} ${formatKb(s.gzip).padStart(10)}`);
console.log('README.md: sizes section rewritten.');
