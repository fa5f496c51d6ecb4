// Every test broker keeps its store in memory (the mongo project then sets MONGO_URI) and logs nothing.
process.env.DATA_DIR = ":memory:";
process.env.JWT_SECRET = "test-secret-for-jest-only";
// One test client makes many requests; the rate-limit tests set their own limits.
process.env.RATE_LIMIT = "100000";
process.env.AUTH_RATE_LIMIT = "100000";
process.env.PORT = "0";
// Health and metrics servers would collide between the many brokers of a test process; tests that need one start it.
process.env.HEALTH_PORT = "0";
process.env.METRICS_PORT = "0";
delete process.env.MONGO_URI;
delete process.env.TRANSPORTER;
delete process.env.ADMIN_EMAIL;
delete process.env.ADMIN_PASSWORD;
