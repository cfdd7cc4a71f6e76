module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'pki',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
