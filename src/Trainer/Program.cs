using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using HeadTracking.Trainer.Cli;
using HeadTracking.Trainer.Cli.Commands;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer;

/// <summary>headtracker-train: the entry point and the command tree; each command is a class in
/// Cli/Commands (its options, its help and what it does).</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        bool verbose = args.Contains("--verbose");
        RootCommand root = Commands();
        try
        {
            ParseResult parsed = root.Parse(CliArgs.MergeRecipe(args));
            if (parsed.Errors.Count > 0)
            {
                Console.Error.WriteLine($"headtracker-train: {parsed.Errors[0].Message} (see --help)");
                return 2;
            }

            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or NotSupportedException or InvalidOperationException)
        {
            Console.Error.WriteLine($"headtracker-train: {e.Message}");
            return 2;
        }
        catch (Exception e) when (!verbose)
        {
            Console.Error.WriteLine($"headtracker-train: unexpected {e.GetType().Name}: {e.Message} (run with --verbose for details)");
            return 1;
        }
    }

    /// <summary>The command tree; each command's --help lists its options.</summary>
    internal static RootCommand Commands()
    {
        var root = new RootCommand(
            "headtracker-train: builds, fine-tunes, evaluates and exports head-tracking models, and makes their data. " +
            "Any command takes --recipe FILE.json, a JSON object of its options (\"epochs\": 5, \"heads\": [\"center\", \"box\"]); " +
            "options given on the command line win.");
        var verbose = Flag("--verbose", "Print stack traces of unexpected errors.");
        verbose.Recursive = true;
        root.Options.Add(verbose);
        Command[] commands =
        [
            InitCommand.Create(),
            ExportCommand.Create(),
            InspectCommand.Create(),
            SynthCommand.Create(),
            SynthVideoCommand.Create(),
            PhotoVideoCommand.Create(),
            SynthCountCommand.Create(),
            MosaicCommand.Create(),
            LabelCommand.Create(),
            TeacherCropsCommand.Create(),
            DataCommand.Create(),
            TrainCommand.Create(),
            LrFindCommand.Create(),
            EvalCommand.Create(),
            InterpretCommand.Create(),
            ImportTfjsCommand.Create(),
        ];
        foreach (Command c in commands)
        {
            root.Subcommands.Add(c);
        }

        return root;
    }
}
