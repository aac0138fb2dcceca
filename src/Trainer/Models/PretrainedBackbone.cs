using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Models.Heads;
using HeadTracking.Trainer.Onnx;

namespace HeadTracking.Trainer.Models;

/// <summary>What loading pretrained weights did: the backbone's tensors, and a line for each
/// head that can start from the same network (<see cref="AnchorPointHead"/>, <see cref="AnchorPoseHead"/>).</summary>
internal sealed record PretrainedReport(ImportReport Backbone, IReadOnlyList<string> Heads);

/// <summary>Loads pretrained backbone weights from an ONNX file into a model's backbone, and the
/// heads that start from the same network.</summary>
internal static class PretrainedBackbone
{
    /// <summary>
    /// For blazeface: MediaPipe's BlazeFace ONNX (its TensorFlow layer names); anchor heads start
    /// from its detector layers where they predict what BlazeFace does. For the others: an ONNX
    /// file whose initializers carry torchvision's names ("conv1.weight", "layer1.0.bn1.running_mean",
    /// ...); tensors the backbone lacks, like a classifier, are ignored. Every backbone tensor must
    /// be found with the right shape. A kept keypoint path (<see cref="KeptKeypointPath"/>) starts
    /// as a copy of the backbone's blocks, and its guide (<see cref="MultiHeadNet.Guide"/>) as the
    /// kept keypoint head does.
    /// </summary>
    /// <exception cref="System.IO.InvalidDataException">A backbone tensor is missing or misshapen.</exception>
    public static PretrainedReport Load(MultiHeadNet net, string path)
    {
        Dictionary<string, string> map = net.Backbone is BlazeFaceBackbone
            ? BlazeFaceWeights.NameMap(prefix: "", heads: false)
            : net.Backbone.state_dict().Keys.ToDictionary(k => k, k => k);
        ImportReport backbone = OnnxWeights.Load(net.Backbone, path, map, strict: true);
        if (net.Kept != null && net.Backbone is BlazeFaceBackbone blaze)
        {
            net.Kept.CopyFrom(blaze);
        }

        IStartsFromBlazeFace[] heads = [.. net.Heads.OfType<IStartsFromBlazeFace>()];
        if (heads.Length == 0 || net.Backbone is not BlazeFaceBackbone)
        {
            return new PretrainedReport(backbone, [.. heads.Select(h => $"{h.OutputName}: not on BlazeFace's backbone, started at random")]);
        }

        Dictionary<string, OnnxTensor> file = OnnxWeights.Read(path);
        Dictionary<string, string> names = BlazeFaceWeights.NameMap(prefix: "");
        string[] guide = net.Guide is IStartsFromBlazeFace g ? [$"(the training-only guide, --guide-keypoints) {g.LoadBlazeFace(file, names)}"] : [];
        return new PretrainedReport(backbone, [.. heads.Select(h => h.LoadBlazeFace(file, names)), .. guide]);
    }

    /// <summary>Writes the report as the trainer's commands log it.</summary>
    public static void Log(TextWriter log, string path, PretrainedReport report)
    {
        log.WriteLine($"Backbone weights from {path}: {report.Backbone}");
        foreach (string line in report.Heads)
        {
            log.WriteLine($"Anchor head {line}");
        }
    }
}
