using System;
using System.IO;
using HeadTracker.Tests;
using HeadTracker.Trainer.Cli;

namespace HeadTracker.Trainer.Tests;

public class CliArgsTests
{
    [Fact]
    public void Recipe_supplies_options_and_the_command_line_wins()
    {
        string dir = Repo.NewTempDir("recipe");
        try
        {
            string recipe = Path.Combine(dir, "recipe.json");
            File.WriteAllText(recipe, """{"epochs": 7, "heads": ["center", "box"], "resume": true, "no-augment": false, "lr": "0.003"}""");
            var cli = CliArgs.WithRecipe(["--recipe", recipe, "--epochs", "2"]);
            Assert.Equal(2, cli.Int("epochs", 0));
            Assert.Equal("center,box", cli.Option("heads"));
            Assert.True(cli.Flag("resume"));
            Assert.False(cli.Flag("no-augment"));
            Assert.Equal("0.003", cli.Option("lr"));
            cli.EnsureAllUsed();

            File.WriteAllText(recipe, "[1, 2]");
            var e = Assert.Throws<ArgumentException>(() => CliArgs.WithRecipe(["--recipe", recipe]));
            Assert.Contains(recipe, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Leftovers_and_bad_values_name_the_option()
    {
        var cli = new CliArgs(["--count", "many", "--bogus"]);
        Assert.Contains("--count", Assert.Throws<ArgumentException>(() => cli.Int("count", 1)).Message, StringComparison.Ordinal);
        Assert.Contains("'--bogus'", Assert.Throws<ArgumentException>(cli.EnsureAllUsed).Message, StringComparison.Ordinal);
    }
}
