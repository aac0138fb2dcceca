using System;
using System.CommandLine;
using HeadTracking.Trainer.Onnx;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>inspect</c>: an ONNX file's inputs, outputs, manifest and ops.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "An ONNX file." };
        var nodes = Flag("--nodes", "Also list every node.");
        var c = new Command("inspect", "Prints an ONNX file's inputs, outputs, manifest, op counts and parameter count.") { file, nodes };
        c.SetAction(r =>
        {
            OnnxInspector.Print(r.GetValue(file)!, Console.Out, r.GetValue(nodes));
            return 0;
        });
        return c;
    }
}
