using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading.Tasks;

namespace HeadTracking.Tests;

/// <summary>Runs a command to completion and captures what it printed.</summary>
internal static class Processes
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        /// <summary>What it printed, and its exit code when that is not 0 (a process that dies
        /// of a signal prints nothing of it: its code, 128 + the signal, is then the only trace).</summary>
        public string All => StdOut + StdErr + (ExitCode == 0 ? "" : $"\n[exit code {ExitCode}]");
    }

    public static Result Run(string file, IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? env = null, int timeoutSeconds = 300)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        if (env != null)
        {
            foreach (KeyValuePair<string, string> kv in env)
            {
                start.Environment[kv.Key] = kv.Value;
            }
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} ran past {timeoutSeconds} s");
        }

        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
