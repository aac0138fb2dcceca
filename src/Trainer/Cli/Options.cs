using System;
using System.CommandLine;
using static HeadTracking.OptionValues;

namespace HeadTracking.Trainer.Cli;

/// <summary>Typed System.CommandLine options with the checks every command shares.</summary>
internal static class Options
{
    public static Option<string> Text(string name, string description, bool required = false) =>
        new(name) { Description = description, Required = required };

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    public static Option<int> Int(string name, string description, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => fallback };
        option.Validators.Add(r =>
        {
            if (!TryValue(r, "a whole number", out int v))
            {
                return;
            }

            if (v < min || v > max)
            {
                r.AddError($"option {name} needs a whole number in [{min}, {max}], got {v}");
            }
        });
        return option;
    }

    /// <summary>A number that must be finite and lie in [min, max].</summary>
    public static Option<double> Number(string name, string description, double fallback, double min = 0, double max = double.MaxValue)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => fallback };
        option.Validators.Add(r =>
        {
            if (!TryValue(r, "a number", out double v))
            {
                return;
            }

            if (!double.IsFinite(v) || v < min || v > max)
            {
                r.AddError($"option {name} needs a number in [{min}, {max}], got {v}");
            }
        });
        return option;
    }

    /// <summary>An optional share in (0, 0.9]; null when not given.</summary>
    public static Option<double?> Share(string name, string description)
    {
        var option = new Option<double?>(name) { Description = description };
        option.Validators.Add(r =>
        {
            if (!TryValue(r, "a number", out double? v))
            {
                return;
            }

            if (v is { } x && (!double.IsFinite(x) || x <= 0 || x > 0.9))
            {
                r.AddError($"option {name} needs a share in (0, 0.9], got {x}");
            }
        });
        return option;
    }

    /// <summary>Required value of an option declared required (System.CommandLine checked it).</summary>
    public static string Get(this ParseResult r, Option<string> option) =>
        r.GetValue(option) ?? throw new ArgumentException($"option {option.Name} is required");
}
