using System;
using System.CommandLine.Parsing;
using System.Linq;

namespace HeadTracking;

/// <summary>System.CommandLine validators' access to an option's value. Compiled into each
/// program with a command line.</summary>
internal static class OptionValues
{
    /// <summary>The option's value for a validator; false, with an error naming the option and
    /// what it got, when the text does not convert (System.CommandLine throws then).</summary>
    public static bool TryValue<T>(OptionResult r, string what, out T? value)
    {
        try
        {
            value = r.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default;
            r.AddError($"option {r.Option.Name} needs {what}, got '{string.Join(" ", r.Tokens.Select(t => t.Value))}'");
            return false;
        }
    }
}
