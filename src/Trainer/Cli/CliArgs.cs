using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace HeadTracker.Trainer.Cli;

/// <summary>
/// A verb's options: "--name value" and "--flag", plus positional arguments. Every accessor
/// consumes what it reads; <see cref="EnsureAllUsed"/> then rejects anything left over, naming it.
/// </summary>
internal sealed class CliArgs
{
    private readonly List<string> _args;

    public CliArgs(IEnumerable<string> args) => _args = [.. args];

    /// <summary>
    /// Adds the options of a recipe file named by --recipe FILE.json: a JSON object whose keys are
    /// option names without dashes ("epochs": 5, "heads": ["center", "box"], "resume": true).
    /// Options given on the command line win over the recipe.
    /// </summary>
    /// <exception cref="ArgumentException">The recipe is missing or not such an object; the
    /// message names the file and the key.</exception>
    public static CliArgs WithRecipe(IEnumerable<string> args)
    {
        var cli = new CliArgs(args);
        string? recipe = cli.Option("recipe");
        if (recipe == null)
        {
            return cli;
        }

        if (!System.IO.File.Exists(recipe))
        {
            throw new ArgumentException($"option --recipe: file not found: {recipe}");
        }

        System.Text.Json.JsonDocument doc;
        try
        {
            doc = System.Text.Json.JsonDocument.Parse(System.IO.File.ReadAllText(recipe));
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ArgumentException($"{recipe}: not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                throw new ArgumentException($"{recipe}: a recipe is a JSON object of option names and values");
            }

            foreach (System.Text.Json.JsonProperty p in doc.RootElement.EnumerateObject())
            {
                if (cli._args.Contains("--" + p.Name))
                {
                    continue;
                }

                switch (p.Value.ValueKind)
                {
                    case System.Text.Json.JsonValueKind.True:
                        cli._args.Add("--" + p.Name);
                        break;
                    case System.Text.Json.JsonValueKind.False:
                        break;
                    case System.Text.Json.JsonValueKind.Array:
                        cli._args.AddRange(["--" + p.Name, string.Join(",", p.Value.EnumerateArray().Select(v => v.ToString()))]);
                        break;
                    case System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Number:
                        cli._args.AddRange(["--" + p.Name, p.Value.ToString()]);
                        break;
                    default:
                        throw new ArgumentException($"{recipe}: '{p.Name}' must be a string, number, boolean or list");
                }
            }
        }

        return cli;
    }

    /// <summary>True when --<paramref name="name"/> is present.</summary>
    public bool Flag(string name) => _args.Remove("--" + name);

    /// <summary>The value after --<paramref name="name"/>, or null when absent.</summary>
    /// <exception cref="ArgumentException">The option has no value.</exception>
    public string? Option(string name)
    {
        int i = _args.IndexOf("--" + name);
        if (i < 0)
        {
            return null;
        }

        if (i + 1 >= _args.Count || _args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"option --{name} needs a value");
        }

        string value = _args[i + 1];
        _args.RemoveRange(i, 2);
        return value;
    }

    /// <exception cref="ArgumentException">The option is missing.</exception>
    public string Required(string name) => Option(name) ?? throw new ArgumentException($"option --{name} is required");

    /// <exception cref="ArgumentException">Not a whole number within [min, max].</exception>
    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        string? v = Option(name);
        if (v == null)
        {
            return fallback;
        }

        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
        {
            throw new ArgumentException($"option --{name} needs a whole number in [{min}, {max}], got '{v}'");
        }

        return n;
    }

    /// <summary>The next positional argument (not starting with --), or null.</summary>
    public string? Positional()
    {
        int i = _args.FindIndex(a => !a.StartsWith("--", StringComparison.Ordinal));
        if (i < 0)
        {
            return null;
        }

        string v = _args[i];
        _args.RemoveAt(i);
        return v;
    }

    /// <exception cref="ArgumentException">Something was not consumed; the message names it.</exception>
    public void EnsureAllUsed()
    {
        if (_args.Count > 0)
        {
            throw new ArgumentException(_args[0].StartsWith("--", StringComparison.Ordinal)
                ? $"unknown option '{_args[0]}'"
                : $"unexpected argument '{_args[0]}'");
        }
    }

    /// <summary>Splits "a,b,c" into its non-empty parts.</summary>
    public static string[] List(string value) =>
        [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
