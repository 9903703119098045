namespace AiOps.IntegrationTests; public class Smoke { }
