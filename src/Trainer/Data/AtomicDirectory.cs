using System;
using System.IO;

namespace HeadTracking.Trainer.Data;

/// <summary>
/// Writes a folder all at once: its contents go into a temporary sibling that is renamed over the
/// final name when complete, so a crash never leaves a half-written data set or checkpoint there.
/// </summary>
internal static class AtomicDirectory
{
    /// <summary>Calls <paramref name="fill"/> with the temporary folder, then puts it in place
    /// of <paramref name="dir"/> (replacing what was there). On failure nothing changes.</summary>
    public static T Write<T>(string dir, Func<string, T> fill)
    {
        string full = Path.GetFullPath(dir);
        string parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"folder {dir} has no parent");
        Directory.CreateDirectory(parent);
        string name = Path.GetFileName(full);
        string temp = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        string old = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.old");
        Directory.CreateDirectory(temp);
        try
        {
            T result = fill(temp);
            if (Directory.Exists(full))
            {
                Directory.Move(full, old);
            }

            Directory.Move(temp, full);
            return result;
        }
        finally
        {
            foreach (string leftover in new[] { temp, old })
            {
                if (Directory.Exists(leftover))
                {
                    Directory.Delete(leftover, recursive: true);
                }
            }
        }
    }
}
