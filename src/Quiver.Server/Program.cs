using Quiver.Server.Cli;

// Composition of the server lives in Hosting/ (AddQuiverServer, UseQuiverServer); the verbs in Cli/.
return await QuiverCli.RunAsync(args);
