const base = require('../../jest.preset')(__dirname);

// The browser test starts a whole platform and drives Chromium through six pages at two sizes.
module.exports = { ...base, testTimeout: 600_000 };
