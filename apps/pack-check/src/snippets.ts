// The TypeScript examples of the READMEs, as a user copies them: every ```ts fence.

/** One ```ts fence of a README. */
export interface Snippet {
  /** The README, relative to the repository root (`packages/core/README.md`). */
  readme: string;
  /** The nearest heading above the fence, without its `#`s (the README's title before any). */
  heading: string;
  /** 1 for the first fence under that heading, 2 for the second, … */
  indexInHeading: number;
  /**
   * How the check's configuration names it: `<readme> § <heading>`, with ` #n` after the
   * heading from its second fence on. Stable while the README's headings are.
   */
  key: string;
  /** The fence's 1-based first code line in the README, for messages. */
  line: number;
  code: string;
  /** Every module specifier the snippet imports (`import … from 'x'`, `import 'x'`). */
  imports: string[];
}

const FENCE = /^```(\S*)\s*$/;
const HEADING = /^#{1,6}\s+(.*?)\s*#*\s*$/;
const IMPORT = /^\s*import\s+(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

/** The `ts` / `typescript` fences of `markdown`, in order. */
export function extractSnippets(readme: string, markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  const perHeading = new Map<string, number>();
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = FENCE.exec(line);
    if (fence === null) {
      const h = HEADING.exec(line);
      if (h !== null) heading = h[1] ?? '';
      continue;
    }
    // Any fence: skip to its end, so a `#` comment inside a shell block is not a heading.
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
    if (end === lines.length) throw new Error(`${readme}:${i + 1}: a code fence that never closes.`);
    i = end;
    if (fence[1] !== 'ts' && fence[1] !== 'typescript') continue;
    const indexInHeading = (perHeading.get(heading) ?? 0) + 1;
    perHeading.set(heading, indexInHeading);
    const code = lines.slice(start, end).join('\n') + '\n';
    out.push({
      readme,
      heading,
      indexInHeading,
      key: `${readme} § ${heading}${indexInHeading > 1 ? ` #${indexInHeading}` : ''}`,
      line: start + 1,
      code,
      imports: [...code.matchAll(IMPORT)].map((m) => m[1] ?? ''),
    });
  }
  return out;
}

/** A file-name-safe, unique name for a snippet (`packages-core-readme-md--rectify-core-1`). */
export function snippetSlug(snippet: Snippet): string {
  const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `${slug(snippet.readme.replace(/\/?README\.md$/, '') || 'root')}--${slug(snippet.heading) || 'top'}-${snippet.indexInHeading}`;
}
