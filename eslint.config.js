// SPDX-License-Identifier: AGPL-3.0-or-later
// ESLint (`make lint`): the recommended rules for the browser modules in static/js and the
// Node tests in tests/js. Everything is an ES module; there is no build step.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['static/js/**/*.js'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['tests/js/**/*.mjs', 'eslint.config.js'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: globals.node },
  },
];
