using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Tests;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Onnx;
using OpenCvSharp;
using OpenCvSharp.Dnn;

namespace HeadTracking.Trainer.Tests;

/// <summary>Our exported files in OpenCV's dnn module, against ONNX Runtime (1e-3).</summary>
public class OpenCvDnnTests
{
    [Theory]
    [InlineData("blazeface", 128, true, false)]
    [InlineData("resnet18", 64, true, false)]
    [InlineData("resnet34", 64, false, false)]
    [InlineData("mobilenetv2", 64, false, false)]
    [InlineData("blazeface", 128, true, true)]
    public void Exported_model_loads_in_opencv_dnn_and_agrees_with_onnx_runtime(string backbone, int size, bool foldBn, bool lean)
    {
        TorchSharp.torch.manual_seed(3);
        using var net = new MultiHeadNet(ExportParityTests.AllHeads(backbone, size, lean));
        ExportParityTests.Randomize(net);
        net.eval();
        string dir = Repo.NewTempDir("opencv");
        try
        {
            string path = Path.Combine(dir, "model.onnx");
            OnnxFile.Save(OnnxExporter.Build(net, new OnnxExportOptions { FoldBatchNorm = foldBn }), path);
            float[] input = ExportParityTests.RandomInput(1, size, seed: 5);
            Dictionary<string, float[]> expected = ExportParityTests.OrtOutputs(path, input, [1, 3, size, size]);

            using Net dnn = CvDnn.ReadNetFromOnnx(path) ?? throw new InvalidDataException("OpenCV returned no network");
            using var blob = Mat.FromPixelData([1, 3, size, size], MatType.CV_32F, input);
            dnn.SetInput(blob, "input");
            string[] names = [.. expected.Keys];
            Mat[] outputs = [.. names.Select(_ => new Mat())];
            dnn.Forward(outputs, names);

            var actual = new Dictionary<string, float[]>();
            for (int i = 0; i < names.Length; i++)
            {
                using Mat o = outputs[i];
                Assert.True(o.IsContinuous());
                var values = new float[o.Total()];
                System.Runtime.InteropServices.Marshal.Copy(o.Data, values, 0, values.Length);
                actual[names[i]] = values;
            }

            ExportParityTests.AssertClose(expected, actual, 1e-3f, $"OpenCV dnn, {backbone}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
