// Jest globalTeardown: stops the cluster that postgres.js started (no-op for an external server).
module.exports = require('./postgres').teardown;
