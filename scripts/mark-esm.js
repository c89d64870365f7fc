'use strict'

// dist/ is CommonJS (the package has no "type"); the browser build below dist/esm is
// ES modules, which Node and bundlers only know from a package.json beside it.
require('node:fs').writeFileSync(require('node:path').join(__dirname, '..', 'dist', 'esm', 'package.json'), '{ "type": "module" }\n')
