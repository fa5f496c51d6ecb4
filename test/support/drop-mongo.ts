// Drops the test file's database afterwards, so a real MONGO_URI server keeps no test data. The
// throwaway Mongo-wire server has no dropDatabase command and forgets everything when it stops anyway.
// The mongodb 3.x driver (moleculer-db-adapter-mongo's own) ships no types.
const { MongoClient } = require("mongodb") as { MongoClient: { connect(uri: string, opts: object): Promise<any> } };

afterAll(async () => {
	if (process.env.SHOP_TEST_MONGO_THROWAWAY) return;
	const client = await MongoClient.connect(process.env.MONGO_URI!, { useUnifiedTopology: true });
	try {
		await client.db().dropDatabase();
	} finally {
		await client.close();
	}
});
