// HeadLook sample: turns (and moves) the object it is on, usually the main camera, with the
// player's head, the way a flight or racing sim's head tracking does. Press the recentre key while
// looking straight at the screen.
using HeadTracking.Runtime;
using HeadTracking.Unity;
using UnityEngine;

public sealed class HeadLook : MonoBehaviour
{
    [Tooltip("The tracker (default: the first HeadTrackerSource in the scene).")]
    public HeadTrackerSource source;

    [Tooltip("Makes the current head pose the zero.")]
    public KeyCode recenterKey = KeyCode.F12;

    [Tooltip("Degrees of view per degree of head turn; negative inverts.")]
    public float yawScale = 1.5f;

    public float pitchScale = 1.5f;

    public float rollScale = 1f;

    [Tooltip("Move with the head too (lean), in metres per centimetre of head movement.")]
    public float metresPerCentimetre = 0.01f;

    [Tooltip("Show the tracker's status in the corner.")]
    public bool showStatus = true;

    private Quaternion restRotation;
    private Vector3 restPosition;
    private bool centred;

    private void Start()
    {
        if (source == null)
        {
            source = FindObjectOfType<HeadTrackerSource>();
        }

        restRotation = transform.localRotation;
        restPosition = transform.localPosition;
    }

    private void Update()
    {
        if (source == null)
        {
            return;
        }

        if (Input.GetKeyDown(recenterKey))
        {
            source.Recenter();
        }

        if (!source.HasResult || !source.Latest.Valid)
        {
            return; // no head in view: hold the last view
        }

        if (!centred)
        {
            // The first pose seen is the player's rest pose (distance included): start from it.
            source.Recenter();
            centred = true;
            return;
        }

        // HeadTracker: x right in the image, y down, z away from the camera; yaw > 0 turns to the
        // player's right, pitch > 0 looks down. Unity: x right, y up, z forward, left-handed.
        HeadPose p = source.Latest.Filtered;
        transform.localRotation = restRotation * Quaternion.Euler((float)p.Pitch * pitchScale, (float)p.Yaw * yawScale, (float)p.Roll * rollScale);
        transform.localPosition = restPosition + new Vector3(-(float)p.X, -(float)p.Y, -(float)p.Z) * metresPerCentimetre;
    }

    private void OnGUI()
    {
        if (!showStatus || source == null)
        {
            return;
        }

        string text = "HeadTracker: " + source.Status;
        if (source.FaultReason != null)
        {
            text += " (" + source.FaultReason + ")";
        }
        else if (source.HasResult && source.Latest.Valid)
        {
            HeadPose p = source.Latest.Filtered;
            text += string.Format("  yaw {0:F1}  pitch {1:F1}  roll {2:F1}  (press {3} to recentre)", p.Yaw, p.Pitch, p.Roll, recenterKey);
        }

        GUI.Label(new Rect(10, 10, 800, 24), text);
    }
}
