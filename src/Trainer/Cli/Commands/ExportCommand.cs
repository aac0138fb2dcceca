using System;
using System.CommandLine;
using System.IO;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Onnx;
using HeadTracking.Trainer.Training;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>export</c>: a checkpoint written as ONNX with its manifest.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = Text("--checkpoint", "Checkpoint folder (model.json, weights.dat).", required: true);
        var output = Text("--out", "ONNX file to write.", required: true);
        var foldBn = Flag("--fold-bn", "Fold each BatchNorm into the Conv before it.");
        var c = new Command("export", "Writes a checkpoint as ONNX (IR 8, opset 17) with its manifest.") { checkpoint, output, foldBn };
        c.SetAction(r => Export(r.Get(checkpoint), r.Get(output), r.GetValue(foldBn)));
        return c;
    }

    private static int Export(string checkpoint, string output, bool foldBn)
    {
        using MultiHeadNet net = Checkpoint.Load(checkpoint);
        net.eval();
        OnnxFile.Save(OnnxExporter.Build(net, new OnnxExportOptions { FoldBatchNorm = foldBn }), output);
        Console.WriteLine($"Wrote {Path.GetFullPath(output)} ({new FileInfo(output).Length:N0} bytes{(foldBn ? ", BatchNorm folded" : "")})");
        return 0;
    }
}
