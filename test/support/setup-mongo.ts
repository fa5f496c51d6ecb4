// The mongo project: each test file gets its own database on the run's MongoDB (see global-setup).
const base = new URL(process.env.SHOP_TEST_MONGO_URI!);
base.pathname = `/shop_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
process.env.MONGO_URI = base.toString();
