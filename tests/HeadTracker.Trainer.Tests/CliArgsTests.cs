using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using HeadTracking.Tests;
using HeadTracking.Trainer.Cli;

namespace HeadTracking.Trainer.Tests;

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
            string[] merged = CliArgs.MergeRecipe(["train", "--recipe", recipe, "--epochs", "2"]);
            Assert.Equal(["train", "--epochs", "2", "--heads", "center,box", "--resume", "--lr", "0.003"], merged);

            // The merged arguments parse as the train command's own options.
            ParseResult parsed = Program.Commands().Parse([.. merged, "--data", "d", "--out", "o"]);
            Assert.Empty(parsed.Errors);

            File.WriteAllText(recipe, "[1, 2]");
            var e = Assert.Throws<ArgumentException>(() => CliArgs.MergeRecipe(["--recipe", recipe]));
            Assert.Contains(recipe, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("synth --out x --count 0", "option --count needs a whole number in [1, 10000000], got 0")]
    [InlineData("synth --out x --max-shift 0.9", "option --max-shift needs a number in [0, 0.5], got 0.9")]
    [InlineData("train --data d --out o --bogus", "--bogus")]
    [InlineData("export --out x", "--checkpoint")]
    public void Bad_command_lines_are_parse_errors_naming_the_option(string line, string expected)
    {
        ParseResult parsed = Program.Commands().Parse(line);
        Assert.NotEmpty(parsed.Errors);
        Assert.Contains(expected, parsed.Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_command_has_help_that_lists_its_options()
    {
        RootCommand root = Program.Commands();
        Assert.Equal(["init", "export", "inspect", "synth", "synth-video", "photo-video", "synth-count", "mosaic", "label", "teacher-crops", "data", "train", "lr-find", "eval", "interpret", "import-tfjs"], root.Subcommands.Select(c => c.Name));
        foreach (Command c in root.Subcommands)
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Description));
            Assert.All(c.Options, o => Assert.False(string.IsNullOrWhiteSpace(o.Description), $"{c.Name} {o.Name} has no description"));
        }
    }
}
