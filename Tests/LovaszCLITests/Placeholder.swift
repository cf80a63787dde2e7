import Testing

@Test func placeholderLovaszCLITests() { #expect(Bool(true)) }
