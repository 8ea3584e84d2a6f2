test('unit', () => { expect(process.env.KAFKA_BROKERS).toBeUndefined(); });
