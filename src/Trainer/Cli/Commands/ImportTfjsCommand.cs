using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using HeadTracking.Trainer.Onnx;
using HeadTracking.Trainer.Teachers;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>import-tfjs</c>: a TensorFlow.js graph model (MediaPipe's face mesh, say) read into
/// TorchSharp and written as ONNX by our own exporter, input and outputs as in the TF graph (NHWC).</summary>
internal static class ImportTfjsCommand
{
    public static Command Create()
    {
        var model = Text("--model", "The graph model's model.json (its weight shards beside it).", required: true);
        var output = Text("--out", "ONNX file to write.", required: true);
        var c = new Command("import-tfjs", "Reads a TensorFlow.js graph model (model.json + .bin shards, float16/uint8 quantised weights too) into TorchSharp and writes it as ONNX.")
            { model, output };
        c.SetAction(r => Run(r.Get(model), r.Get(output)));
        return c;
    }

    public static int Run(string modelJson, string outPath)
    {
        using var net = TfjsGraphNet.Load(modelJson);
        net.eval();
        Onnx.Proto.ModelProto proto = OnnxExporter.Build(net, net.InputShape, net.OutputNames, new OnnxExportOptions());
        OnnxFile.Save(proto, outPath);
        long parameters = net.parameters().Sum(p => p.numel());
        Console.WriteLine($"{Path.GetFileName(modelJson)}: {net.OutputNames.Length} outputs ({string.Join(", ", net.OutputNames)}), " +
            $"input [{string.Join(", ", net.InputShape)}] NHWC, {parameters:N0} parameters, {proto.Graph.Node.Count} ONNX nodes -> {outPath}");
        return 0;
    }
}
