using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace HeadTracking.Trainer.Cli;

/// <summary>Command-line helpers around System.CommandLine: recipe files and comma lists.</summary>
internal static class CliArgs
{
    /// <summary>
    /// Adds the options of a recipe file named by --recipe FILE.json: a JSON object whose keys are
    /// option names without dashes ("epochs": 5, "heads": ["center", "box"], "resume": true).
    /// Options given on the command line win over the recipe. Returns the arguments to parse.
    /// </summary>
    /// <exception cref="ArgumentException">The recipe is missing or not such an object; the
    /// message names the file and the key.</exception>
    public static string[] MergeRecipe(IReadOnlyList<string> args)
    {
        int at = args.ToList().IndexOf("--recipe");
        if (at < 0)
        {
            return [.. args];
        }

        if (at + 1 >= args.Count)
        {
            throw new ArgumentException("option --recipe needs a JSON file");
        }

        string recipe = args[at + 1];
        var merged = args.Where((_, i) => i != at && i != at + 1).ToList();
        if (!File.Exists(recipe))
        {
            throw new ArgumentException($"option --recipe: file not found: {recipe}");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(recipe));
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{recipe}: not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException($"{recipe}: a recipe is a JSON object of option names and values");
            }

            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                if (merged.Contains("--" + p.Name))
                {
                    continue;
                }

                switch (p.Value.ValueKind)
                {
                    case JsonValueKind.True:
                        merged.Add("--" + p.Name);
                        break;
                    case JsonValueKind.False:
                        break;
                    case JsonValueKind.Array:
                        merged.AddRange(["--" + p.Name, string.Join(",", p.Value.EnumerateArray().Select(v => v.ToString()))]);
                        break;
                    case JsonValueKind.String or JsonValueKind.Number:
                        merged.AddRange(["--" + p.Name, p.Value.ToString()]);
                        break;
                    default:
                        throw new ArgumentException($"{recipe}: '{p.Name}' must be a string, number, boolean or list");
                }
            }
        }

        return [.. merged];
    }

    /// <summary>Splits "a,b,c" into its non-empty parts.</summary>
    public static string[] List(string value) =>
        [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
