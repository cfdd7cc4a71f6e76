module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'targets',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
