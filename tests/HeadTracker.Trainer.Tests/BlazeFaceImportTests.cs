using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Preprocessing;
using HeadTracking.Tests;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Onnx;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Tests;

public class BlazeFaceImportTests
{
    [Theory]
    [InlineData("sample3.jpg")]
    [InlineData("sample6.jpg")]
    public void Imported_blazeface_matches_the_original_model_in_onnx_runtime_on_a_real_photo(string photoName)
    {
        using var net = new BlazeFaceNet();
        ImportReport report = OnnxWeights.Load(net, Repo.BlazeFaceFront, BlazeFaceWeights.NameMap(), strict: true);
        Assert.True(report.IsComplete, report.ToString());
        Assert.Equal(58, report.Matched.Count); // stem 2 + 16 depthwise + 32 pointwise + 8 head tensors
        net.eval();

        float[] nhwc = new float[128 * 128 * 3];
        using (Mat photo = Cv2.ImRead(Repo.Fetched("faces/" + photoName)))
        using (var letterbox = new Letterbox(128, 128, 1f / 127.5f, -1f))
        {
            letterbox.Run(photo, nhwc);
        }

        float[][] expected = RunOriginal(nhwc);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor input = tensor(nhwc, [1, 128, 128, 3]).permute(0, 3, 1, 2).contiguous();
        Tensor[] outputs = net.forward(input);

        Assert.Equal(4, outputs.Length);
        for (int i = 0; i < 4; i++)
        {
            float[] actual = outputs[i].data<float>().ToArray();
            Assert.Equal(expected[i].Length, actual.Length);
            // 1e-4, relative where a value exceeds 1 in size: logits and regressor values reach the
            // hundreds (measured: up to 455), where the two runtimes' different summation orders
            // differ by a few float32 steps of 3e-5 each.
            float worst = expected[i].Zip(actual, (a, b) => MathF.Abs(a - b) / MathF.Max(1f, MathF.Abs(a))).Max();
            Assert.True(worst <= 1e-4f, $"output {i}: max |TorchSharp - ONNX Runtime| / max(1, |value|) = {worst}; largest |value| {expected[i].Max(MathF.Abs)}");
        }

        // The photo has faces: the comparison is on a meaningful signal, not on zeros.
        Assert.True(expected[0].Concat(expected[1]).Max() > 0f, "no anchor scored above 0.5 on a photo of faces");
    }

    [Fact]
    public void Strict_import_names_the_missing_and_mismatched_tensors_and_changes_nothing()
    {
        using var net = new BlazeFaceNet();
        Dictionary<string, string> map = BlazeFaceWeights.NameMap();
        map["classifier8.weight"] = map["regressor8.weight"]; // wrong shape: [32,88,1,1] into [2,88,1,1]
        map.Remove("classifier8.bias");
        float before = net.state_dict()["backbone.stem.weight"].sum().item<float>();

        var e = Assert.Throws<System.IO.InvalidDataException>(() => OnnxWeights.Load(net, Repo.BlazeFaceFront, map, strict: true));
        Assert.Contains(Repo.BlazeFaceFront, e.Message, StringComparison.Ordinal);
        Assert.Contains("classifier8.weight: module [2,88,1,1]", e.Message, StringComparison.Ordinal);
        Assert.Contains("classifier8.bias: not in the file", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, net.state_dict()["backbone.stem.weight"].sum().item<float>());

        ImportReport lenient = OnnxWeights.Load(net, Repo.BlazeFaceFront, map, strict: false);
        Assert.Equal(56, lenient.Matched.Count);
        Assert.Single(lenient.Missing);
        Assert.Single(lenient.ShapeMismatched);
        Assert.NotEqual(before, net.state_dict()["backbone.stem.weight"].sum().item<float>());
    }

    /// <summary>
    /// A keypoints head by anchors (<c>--point-head keypoints=anchor</c>) built on BlazeFace's
    /// backbone starts from BlazeFace's detector layers: on a real face, before any training, its
    /// six points are where BlazeFace's own decoding (the runtime's detector, weighted
    /// non-maximum suppression) puts them: measured on sample1.jpg's face, 0.2 to 0.7 px (the
    /// head averages every anchor by its score's softmax, the detector blends the best ones).
    /// </summary>
    [Fact]
    public void An_anchor_keypoint_head_starts_where_BlazeFace_puts_the_points()
    {
        // A 128x128 crop around the first face BlazeFace finds in the photo, as teacher-crops cuts them.
        using var detector = new HeadTracking.Runtime.Detection.BlazeFaceDetector(Repo.BlazeFaceFront);
        var found = new HeadTracking.Runtime.Detection.FaceDetections();
        using Mat crop = FirstFace(detector, 2, 128);
        detector.Detect(crop, found);
        Assert.True(found.Count > 0, "no face in the crop");

        var config = new ModelConfig { Backbone = "blazeface", InputSize = 128, Heads = [new HeadConfig { Kind = "keypoints", Locator = "anchor" }] };
        using var net = new MultiHeadNet(config);
        Assert.Equal(["keypoints: BlazeFace's detector layers (its six keypoints' regressors and anchor scores)"], PretrainedBackbone.Load(net, Repo.BlazeFaceFront).Heads);
        Assert.True(net.Heads.Single().PartOfBody); // learns and freezes with the backbone
        net.eval();

        float[] nhwc = new float[128 * 128 * 3];
        using (var letterbox = new Letterbox(128, 128, 1f / 127.5f, -1f))
        {
            letterbox.Run(crop, nhwc);
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        float[] points = net.forward(tensor(nhwc, [1, 128, 128, 3]).permute(0, 3, 1, 2).contiguous())[0].data<float>().ToArray();
        Assert.Equal(12, points.Length);
        for (int k = 0; k < 6; k++)
        {
            double dx = ((points[2 * k] + 1) * 64) - found.Keypoints[2 * k], dy = ((points[(2 * k) + 1] + 1) * 64) - found.Keypoints[(2 * k) + 1];
            Assert.True(Math.Sqrt((dx * dx) + (dy * dy)) < 1.0, $"keypoint {k}: head ({(points[2 * k] + 1) * 64:F2}, {(points[(2 * k) + 1] + 1) * 64:F2}), BlazeFace ({found.Keypoints[2 * k]:F2}, {found.Keypoints[(2 * k) + 1]:F2})");
        }
    }

    /// <summary>A square crop, <paramref name="boxes"/> times the width of BlazeFace's box, around the
    /// first face it finds in sample1.jpg, shrunk to <paramref name="size"/> pixels.</summary>
    internal static Mat FirstFace(HeadTracking.Runtime.Detection.BlazeFaceDetector detector, float boxes, int size)
    {
        using Mat photo = Cv2.ImRead(Repo.Fetched("faces/sample1.jpg"));
        var found = new HeadTracking.Runtime.Detection.FaceDetections();
        detector.Detect(photo, found);
        Assert.True(found.Count > 0, "no face in sample1.jpg");
        float cx = (found.Boxes[0] + found.Boxes[2]) / 2, cy = (found.Boxes[1] + found.Boxes[3]) / 2, side = boxes * (found.Boxes[2] - found.Boxes[0]);
        using var square = new Mat(photo, new Rect((int)(cx - (side / 2)), (int)(cy - (side / 2)), (int)side, (int)side));
        return square.Resize(new OpenCvSharp.Size(size, size), 0, 0, InterpolationFlags.Area);
    }

    /// <summary>The angle of the rotation between two row-major 3x3 rotation matrices, in degrees.</summary>
    internal static double AngleDegrees(float[] a, float[] b)
    {
        double trace = 0; // trace(a^T b)
        for (int i = 0; i < 9; i++)
        {
            trace += a[i] * b[i];
        }

        return Math.Acos(Math.Clamp((trace - 1) / 2, -1, 1)) * 180 / Math.PI;
    }

    /// <summary>
    /// <c>train --distill-keypoints DATA</c> labels DATA's training items with the keypoint head's
    /// own points as it starts, in image pixels: on a face in a wide (letterboxed) image, an
    /// anchor head's start puts them where BlazeFace's detector does on that image, within the
    /// head's 1 input pixel of the test above (here 2.5 image pixels: the image is 2.5 times the input).
    /// </summary>
    [Fact]
    public void Distilled_keypoints_are_the_starting_heads_points_in_image_pixels()
    {
        string dir = Repo.NewTempDir("distill");
        try
        {
            // The first face of sample1.jpg, 2x its box around it, on a 320x256 canvas: the letterbox pads it.
            using Mat photo = Cv2.ImRead(Repo.Fetched("faces/sample1.jpg"));
            using var detector = new HeadTracking.Runtime.Detection.BlazeFaceDetector(Repo.BlazeFaceFront);
            var found = new HeadTracking.Runtime.Detection.FaceDetections();
            detector.Detect(photo, found);
            float cx = (found.Boxes[0] + found.Boxes[2]) / 2, cy = (found.Boxes[1] + found.Boxes[3]) / 2, side = 2 * (found.Boxes[2] - found.Boxes[0]);
            using Mat face = new Mat(photo, new Rect((int)(cx - (side / 2)), (int)(cy - (side / 2)), (int)side, (int)side)).Resize(new OpenCvSharp.Size(256, 256), 0, 0, InterpolationFlags.Area);
            using var wide = new Mat(256, 320, MatType.CV_8UC3, Scalar.All(90));
            face.CopyTo(new Mat(wide, new Rect(40, 0, 256, 256)));
            string image = System.IO.Path.Combine(dir, "wide.png");
            Cv2.ImWrite(image, wide);
            detector.Detect(wide, found);
            Assert.True(found.Count > 0, "no face in the wide image");

            // InputSize 0, as train leaves it without --size: the backbone's own (128).
            var config = new ModelConfig { Backbone = "blazeface", Heads = [new HeadConfig { Kind = "keypoints", Locator = "anchor" }] };
            using var net = new MultiHeadNet(config);
            PretrainedBackbone.Load(net, Repo.BlazeFaceFront);
            var label = new HeadTracking.Trainer.Data.HeadLabel { Image = "wide.png", Keypoints = [.. Enumerable.Range(0, 6).Select(_ => new double[] { 0, 0, 1 })] };
            List<HeadTracking.Trainer.Data.DataItem> items = [new(label, image), new(label, image)];
            var request = new HeadTracking.Trainer.Training.TrainRequest { Data = new HeadTracking.Trainer.Data.DataSpec { Paths = [dir] }, Out = dir };
            string said = HeadTracking.Trainer.Training.TrainRun.DistillKeypoints(request, net, items, dir, []);
            Assert.Contains("2 training items", said, StringComparison.Ordinal);
            Assert.Contains("(1 images)", said, StringComparison.Ordinal);
            Assert.Same(items[0].Label.Keypoints, items[1].Label.Keypoints); // computed once per image
            for (int k = 0; k < 6; k++)
            {
                double[] p = items[0].Label.Keypoints![k];
                double d = Math.Sqrt(Math.Pow(p[0] - found.Keypoints[2 * k], 2) + Math.Pow(p[1] - found.Keypoints[(2 * k) + 1], 2));
                Assert.True(d < 2.5, $"keypoint {k}: distilled ({p[0]:F1}, {p[1]:F1}), BlazeFace on the image ({found.Keypoints[2 * k]:F1}, {found.Keypoints[(2 * k) + 1]:F1})");
                Assert.Equal(1, p[2]);
            }

            var resumed = Assert.Throws<ArgumentException>(() => HeadTracking.Trainer.Training.TrainRun.DistillKeypoints(request with { Resume = true }, net, items, dir, []));
            Assert.Contains("--distill-keypoints and --resume", resumed.Message, StringComparison.Ordinal);
            var elsewhere = Assert.Throws<ArgumentException>(() => HeadTracking.Trainer.Training.TrainRun.DistillKeypoints(request, net, items, "/nowhere", []));
            Assert.Contains("option --distill-keypoints: '/nowhere' is not one of the --data entries", elsewhere.Message, StringComparison.Ordinal);
        }
        finally
        {
            System.IO.Directory.Delete(dir, recursive: true);
        }
    }

    private static float[][] RunOriginal(float[] nhwc)
    {
        using var session = new InferenceSession(Repo.BlazeFaceFront);
        var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(nhwc, [1, 128, 128, 3]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), input)]);
        var byName = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
        return [byName["Identity:0"], byName["Identity_1:0"], byName["Identity_2:0"], byName["Identity_3:0"]];
    }
}
