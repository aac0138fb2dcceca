using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using HeadTracking.Tests;
using Xunit;

namespace HeadTracking.Build.Tests;

/// <summary>
/// The README's game loop is what a game developer copies first: it must compile, as written, in a
/// game's own namespace against the DLL a game gets (netstandard2.1). Before the namespaces were
/// renamed to HeadTracking.*, `new HeadTracker(...)` there named the namespace, not the type (CS0118).
/// </summary>
public sealed class ReadmeSnippetTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ht-readme-" + Guid.NewGuid().ToString("N"));

    public ReadmeSnippetTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_README_game_loop_compiles_in_a_game_namespace_against_the_runtime_DLL()
    {
        string readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));
        Match block = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, "README.md has no ```csharp block (the game loop)");
        string[] lines = block.Groups[1].Value.Split('\n');
        string usings = string.Join('\n', lines.Where(IsUsingDirective));
        string body = string.Join('\n', lines.Where(l => !IsUsingDirective(l)));
        Assert.Contains("using HeadTracking.Runtime;", usings);

        string dll = Path.Combine(Repo.Root, "src", "Runtime", "bin", BuildOutput.Configuration, "netstandard2.1", "HeadTracker.Runtime.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first");
        File.WriteAllText(Path.Combine(_dir, "Game.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup><Reference Include="{dll}" /></ItemGroup>
            </Project>
            """);
        // What the snippet leaves to the game: a loop flag, a camera to turn, a key to read.
        File.WriteAllText(Path.Combine(_dir, "Game.cs"), usings + "\n" + $$"""
            namespace SomeGame
            {
                public sealed class Game { public bool Running => false; public void Render() { } }
                public sealed class View { public void Turn(double yaw, double pitch, double roll) { } }
                public enum Key { R }
                public sealed class Input { public bool Pressed(Key key) => false; }
                public static class Loop
                {
                    public static void Run(Game game, View view, Input input)
                    {
            {{body}}
                    }
                }
            }
            """);

        var r = Processes.Run("dotnet", ["build", _dir, "-nologo", "-v", "quiet"], env: new System.Collections.Generic.Dictionary<string, string>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        });
        Assert.True(r.ExitCode == 0, "the README's game loop does not compile:\n" + r.All);
    }

    private static bool IsUsingDirective(string line) =>
        line.StartsWith("using ", StringComparison.Ordinal) && !line.StartsWith("using var ", StringComparison.Ordinal);
}
