// Import rules that ESLint cannot check across files: no module may reach itself through its imports,
// type-only imports included (a type cycle still ties two modules' designs together).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Break the cycle: move what both modules need into a third one that neither imports back.',
      from: { path: '^(src|media|test|bench|eval)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|dist|out|e2e)/' },
  },
};
