using Quiver.Core.Hosting;
using Quiver.Server.Cli;
using Quiver.Server.Hosting;

var invocation = CommandLine.Parse(args);
switch (invocation.Verb)
{
    case "keys":
        return await KeysCommand.RunAsync(invocation);
    case "serve":
        break;
    default:
        Console.Error.WriteLine($"Unknown command '{invocation.Verb}'. Commands: serve (default), keys.");
        return 2;
}

var builder = WebApplication.CreateBuilder(invocation.HostArgs);
builder.AddQuiverCore();
builder.AddQuiverServer();

var app = builder.Build();
app.UseQuiverServer();
await app.RunAsync();
return 0;
